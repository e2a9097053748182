# syntax=docker/dockerfile:1
#
# UNTESTED: written on a machine without a Docker engine; this image has never been built or run.
#
# An image holding only the linux-x64 release binary: no shell, no package manager, runs as uid/gid 65532.
# The build context is the repository root, and it must already contain the release binaries;
# .dockerignore lets through nothing but dist/release/processor-<version>-linux-x64.
#
#   bun scripts/release.ts                  # writes dist/release/processor-<version>-linux-x64
#   docker build -t processor:0.1.0 .
#   docker run --rm processor:0.1.0 --help
#   docker run --rm -p 9464:9464 -v "$PWD/examples:/handlers:ro" processor:0.1.0 \
#     --brokers kafka:9092 --input-topics in --output-topic out \
#     --handler /handlers/enrich-handler.ts --metrics-port 9464
#
# Settings can also come from the environment (docker run -e KAFKA_SERVERS=... -e PROCESSOR_HANDLER=...).
#
# Base: the binary is linked against glibc (libc, libm, libpthread, libdl) and nothing else, so it needs a glibc
# image, not scratch. distroless/base has glibc, CA certificates, tzdata and a "nonroot" user 65532.
# Pin it by digest for reproducible images (gcr.io/distroless/base-debian12:nonroot@sha256:...).
FROM gcr.io/distroless/base-debian12:nonroot

# The wildcard matches exactly one file: release.ts clears old binaries from dist/release before it builds.
COPY dist/release/processor-*-linux-x64 /processor

USER 65532:65532
ENTRYPOINT ["/processor"]
