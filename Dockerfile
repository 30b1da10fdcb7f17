# The hub, as one static binary on a distroless base (no shell, no package
# manager, non-root). Build: docker build -t vigia-hub . ; the compose file
# at the top level builds and runs it behind nginx.

# Build stage. CGO is off: the embedded SQLite driver (modernc.org/sqlite) is
# pure Go, so the binary is static.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hub ./cmd/hub \
 && mkdir -p /out/data

# Run stage: distroless static, user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hub /hub
# The data directory (embedded event store, sessions) belongs to the hub's
# user, so a named volume mounted there starts out writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HUB_ADDR=:8080 \
    HUB_DATA_DIR=/data \
    HUB_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
USER 65532:65532
# No HEALTHCHECK: the image has no shell and no HTTP client to call
# GET /healthz with, and the hub has no health-probe subcommand. Probe
# /healthz (process up) and /readyz (dependencies) from outside: the load
# balancer, an orchestrator's HTTP probe, or curl on the host.
ENTRYPOINT ["/hub"]
CMD ["serve"]
