"""The shipped deployment: nginx in front of gunicorn (nginx.conf, serve.py)."""
