# Image of the otel-ccmon demo app and alert receiver (docker-compose.yml services `app` and
# `alert-receiver`). Slim, non-root; the same package the tests run.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY otel_ccmon ./otel_ccmon
# the services' extras only: the library core plus the receiver and the demo app
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[receiver,demo]"

FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /app --create-home ccmon
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "otel-ccmon[receiver,demo]" && rm -rf /wheels
USER 10001
WORKDIR /app
EXPOSE 3000 9095
ENTRYPOINT ["ccmon"]
CMD ["demo", "--host", "0.0.0.0", "--port", "3000"]
