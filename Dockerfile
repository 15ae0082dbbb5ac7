# syntax=docker/dockerfile:1
# provisiond: a static binary on distroless, running as the non-root user 65532.
#   docker build -t provisiond .
#   docker run --rm -p 8080:8080 -v provisiond-data:/data provisiond

# ---- build ----------------------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first, in their own layer, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download

# Only what the build reads: no .git, bin/, data/ or node_modules/ from the host.
COPY Makefile ./
COPY cmd/ cmd/
COPY gen/ gen/
COPY internal/ internal/
COPY openapi/ openapi/
# The same command as a developer's `make build`: CGO_ENABLED=0 go build -trimpath -ldflags … -o
# bin/provisiond. The context has no .git: the version and commit come as build arguments,
#   docker build --build-arg VERSION=$(git describe --tags) --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=
ARG COMMIT=
RUN --mount=type=cache,target=/root/.cache/go-build make build VERSION="$VERSION" COMMIT="$COMMIT"

# The data folder of the default SQLite database; distroless has no shell to create it later.
RUN mkdir -p /out/data

# ---- run ------------------------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/provisiond /provisiond
COPY --from=build --chown=65532:65532 /out/data /data
# SQLite in the volume by default; set a postgres:// URL to use PostgreSQL instead.
ENV PROVISIOND_DATABASE_URL=/data/provisiond.db
VOLUME ["/data"]
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/provisiond"]
CMD ["serve"]
