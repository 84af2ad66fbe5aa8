# zadig-sync as a container image: a static (musl) binary, CA certificates,
# a non-root user, and nothing else.
#
#   docker build -t zadig-sync .
#   docker run --rm -e ZADIG_TOKEN -v "$PWD:/defs:ro" zadig-sync plan /defs
#
# The `report` target adds a shell, curl and jq for scripted steps (the
# Kubernetes drift CronJob's webhook): docker build --target report .

# Build: Alpine's Rust links against musl, statically by default.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin zadig-sync \
    && strip target/release/zadig-sync \
    && ! ldd target/release/zadig-sync 2>/dev/null | grep -q '=>'

# CA certificates and the user, copied into the empty image.
FROM alpine:3.21 AS base
RUN apk add --no-cache ca-certificates \
    && echo 'zadig-sync:x:65532:65532::/home/zadig-sync:/sbin/nologin' > /passwd \
    && echo 'zadig-sync:x:65532:' > /group

# For scripted steps: the same binary with a shell, curl and jq.
FROM alpine:3.21 AS report
RUN apk add --no-cache ca-certificates curl jq
COPY --from=build /src/target/release/zadig-sync /usr/local/bin/zadig-sync
USER 65532:65532
ENTRYPOINT []

# The default image.
FROM scratch AS runtime
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /passwd /etc/passwd
COPY --from=base /group /etc/group
COPY --from=build /src/target/release/zadig-sync /usr/local/bin/zadig-sync
USER 65532:65532
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/zadig-sync"]
