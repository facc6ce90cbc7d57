# Inboxerr: one image for the web (gunicorn, the default) and the workers
# (`python manage.py qcluster`). Configure it with the variables in the README.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time; collectstatic needs settings, not secrets.
RUN DEBUG=false SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0123456789 \
    python manage.py collectstatic --noinput -v0 \
    && useradd --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin inboxerr \
    && mkdir -p /app/var/imports && chown -R inboxerr /app/var

USER 10001
EXPOSE 8000
CMD ["gunicorn", "inboxerr.wsgi", "--config", "gunicorn.conf.py"]
