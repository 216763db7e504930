# Application image (Python 3.11): action server, knowledge service, contact-centre app, voice gateway. The Rasa server has its own image
# (Dockerfile.rasa, Python 3.10). Build from the repository root:
#   docker build -t p95598-app .        docker build -f Dockerfile.rasa -t p95598-rasa .
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    PYTHONPATH=/app EMBED_MODEL_DIR=/models/me5-small P95598_INDEX_DIR=/data/indexes
WORKDIR /app
COPY requirements/app.txt requirements/app.txt
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements/app.txt
COPY . .
RUN python -m knowledge.model_convert /models/me5-small
EXPOSE 5055 5056 5058 5060
# one image, four commands: `python -m rasa_sdk --actions actions -p 5055` / `python -m knowledge serve --host 0.0.0.0`
# / `python -m console serve --host 0.0.0.0` / `python -m voice serve --host 0.0.0.0`
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "-p", "5055"]
