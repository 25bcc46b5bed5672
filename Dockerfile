# syntax=docker/dockerfile:1.7
#
# mediaserver container image, for linux/amd64 and linux/arm64 (Ampere A1):
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t mediaserver:dev .
#
# The builder stages run on the build machine's own platform ($BUILDPLATFORM) and cross-compile
# for the target with Debian's cross gcc (sqlite, ring and aws-lc are C code), which is many
# times faster than compiling under QEMU emulation. Only the runtime stage runs per platform,
# and it only installs Debian packages. Dependencies are compiled in their own layer by
# cargo-chef, so a source-only change rebuilds just the workspace crates.

# ---- toolchain: Rust, cargo-chef and the cross linkers ---------------------------------------
FROM --platform=$BUILDPLATFORM rust:1.91-bookworm AS chef
ARG TARGETARCH
ARG BUILDARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Rust target triple per Docker architecture; gcc for the other architecture only when crossing.
# hadolint ignore=DL3008
RUN case "$TARGETARCH" in \
      amd64) triple="x86_64-unknown-linux-gnu";  gcc="gcc-x86-64-linux-gnu";  libc="libc6-dev-amd64-cross" ;; \
      arm64) triple="aarch64-unknown-linux-gnu"; gcc="gcc-aarch64-linux-gnu"; libc="libc6-dev-arm64-cross" ;; \
      *) echo "unsupported TARGETARCH: $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && echo "$triple" > /rust-target \
 && if [ "$TARGETARCH" != "$BUILDARCH" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends "$gcc" "$libc" \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && rustup target add "$triple" \
 && cargo install cargo-chef --locked --version 0.1.78
# The cc crate and cargo pick these up per target; on the native architecture they name the
# ordinary gcc, which Debian also installs under its triple-prefixed name.
ENV CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc \
    AR_x86_64_unknown_linux_gnu=x86_64-linux-gnu-ar
WORKDIR /src

# ---- the dependency recipe: changes only when a Cargo.toml or Cargo.lock does ----------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---- build: dependencies (cached layer), then the workspace -----------------------------------
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --target "$(cat /rust-target)" --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --target "$(cat /rust-target)" -p mediaserver --bin mediaserver \
 && install -m 0755 "target/$(cat /rust-target)/release/mediaserver" /usr/local/bin/mediaserver

# ---- runtime: Debian slim with ffmpeg, running as an unprivileged user ------------------------
FROM debian:bookworm-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian stable only ships security fixes for these; pinning exact versions would make the
# build fail each time one is superseded, so the suite (bookworm) is the pin.
# curl serves the HEALTHCHECK below (the binary has no health subcommand).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mediaserver \
 && useradd --system --uid 10001 --gid mediaserver --home-dir /var/lib/mediaserver \
      --shell /usr/sbin/nologin mediaserver \
 && install -d -o mediaserver -g mediaserver -m 0750 /var/lib/mediaserver
COPY --from=builder /usr/local/bin/mediaserver /usr/local/bin/mediaserver

# DATA_DIR holds the SQLite database and local storage in the single-node setup and the
# workers' scratch space (TEMP_DIR defaults to $DATA_DIR/tmp); mount a volume there.
ENV DATA_DIR=/var/lib/mediaserver \
    PORT=3000 \
    LOG_FORMAT=json
WORKDIR /var/lib/mediaserver
USER 10001:10001
EXPOSE 3000

# Only meaningful for `serve`; `worker` and `transcode` containers have no HTTP port (run them
# with --no-healthcheck, or let the orchestrator's own probes decide, as deploy/k8s does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/bin/sh", "-c", "curl --fail --silent --show-error --max-time 4 \"http://127.0.0.1:${PORT:-3000}/healthz\" || exit 1"]

# mediaserver handles SIGTERM itself (graceful stop) and waits for its ffmpeg children.
ENTRYPOINT ["mediaserver"]
CMD ["serve"]
