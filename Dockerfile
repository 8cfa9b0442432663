# finsent application image (worker, dashboard, scheduler, CLI).
FROM python:3.11-slim
WORKDIR /opt/finsent
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e .
ENV FINSENT_REGISTRY_DIR=/var/lib/finsent/models
CMD ["finsent", "--help"]
