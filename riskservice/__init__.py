"""riskservice: transparent insulin-resistance risk-factor scoring.

The domain core lives in :mod:`riskservice.core` and imports no Flask; this module only
holds the Flask application factory that wires thin HTTP adapters around it.
"""
__version__ = "0.1.0"


def create_app(test_config=None):
    """Build the Flask app: config from defaults, environment, then ``test_config``."""
    from riskservice.app import build_app

    return build_app(test_config)
