"""``python -m riskservice.cli`` runs the same command line as the ``riskservice`` script."""
from riskservice.cli import main

main()
