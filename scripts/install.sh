#!/usr/bin/env bash
# Installs everything memcompare and its tests need: Debian's gunicorn, uWSGI, Puma, Unicorn, Passenger, PHP-FPM,
# Apache with mod_php, numpy, matplotlib and smem
# (real servers and the reference tool), then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in gunicorn uwsgi-core uwsgi-plugin-python3 puma unicorn python3-numpy python3-matplotlib smem util-linux procps hey \
  php8.2-fpm php8.2-opcache apache2 libapache2-mod-php8.2 libfcgi-bin curl prometheus \
  redis-server python3-celery python3-redis uvicorn python3-uvicorn python3-fastapi python3-starlette python3-jinja2 chromium passenger; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
npm run build
