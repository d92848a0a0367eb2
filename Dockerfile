# riskservice serving image. Build: docker build -t riskservice .   Run: docker run -p 8000:8000 riskservice
# Only the serving dependencies (install_requires, locked) are installed: no train or test extras.
# The container runs the shipped deployment: nginx (Debian's package, riskservice/deploy/nginx.conf)
# on $PORT in front of gunicorn on 127.0.0.1:$PORT+1 (riskservice/deploy/serve.py, as `make serve-prod`).
# Not built on the development machine (no Docker engine there); tests/prod/test_dockerfile.py
# checks its properties instead.

# Dependencies come from requirements/serve.txt: the serving subset of the hash-locked
# requirements/lock.txt (same pins, made by `make lock`), so the image runs the versions CI tested.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements/serve.txt ./requirements/serve.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/serve.txt \
    && pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements/serve.txt
COPY pyproject.toml setup.cfg README.md ./
COPY riskservice ./riskservice
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    RISKSERVICE_MODEL_DIR=/app/models \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    RISKSERVICE_REPLAY_DB=/app/instance/cds-jti.sqlite3
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 riskservice \
    && useradd --system --uid 10001 --gid riskservice --home-dir /app --no-create-home riskservice \
    && mkdir -p /app/instance && chown 10001:10001 /app/instance
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
COPY models/ /app/models/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/healthz\", timeout=2)"]
CMD ["python", "-m", "riskservice.deploy.serve"]
