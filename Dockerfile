# The Gongkai CLI in a slim image. The HTTP service (issue 6) will extend this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY corpora ./corpora
RUN pip install .

RUN useradd --create-home --uid 10001 gongkai
USER gongkai
WORKDIR /home/gongkai

HEALTHCHECK --interval=30s --timeout=10s CMD gongkai cells 2021 > /dev/null || exit 1
ENTRYPOINT ["gongkai"]
CMD ["--help"]
