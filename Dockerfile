# gryphgen node image: the packed npm tarball, installed. Build: docker build -t gryphgen .
# A 3-node mesh: docker compose up (compose.yaml).
# Run:   docker run -d --name gryphgen -v gryphgen-data:/data -p 7410:7410 -p 127.0.0.1:7411:7411 gryphgen
# The API listens on 0.0.0.0 inside the container so the published port reaches it; publish it
# on the host's loopback only (as above): the bearer token in /data/api-token guards it.
# The sandbox needs user namespaces, which Docker's default seccomp profile denies: without
# `--security-opt seccomp=unconfined` (or a profile allowing unshare/clone of namespaces) the
# node advertises `sandbox.available: false` and never runs untrusted code.

# Build stage: the npm package itself (`npm pack`; prepack compiles dist/ and the dashboard).
FROM node:20-bookworm-slim AS pack
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /tmp && mv /tmp/gryphgen-*.tgz /tmp/gryphgen.tgz

# Run stage: the packed tarball installed as a grid machine installs it (no source tree, no
# tsx): CPU-only, i.e. without node-llama-cpp's GPU binaries (see README, "Install on a grid
# machine"); `gryphgen setup --gpu cpu` adds the CPU llama.cpp binary.
FROM node:20-bookworm-slim
# bubblewrap: the sandbox; tini: PID 1 that reaps the sandbox's zombies;
# python3 + pytest: runtimes for sandboxed code.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap tini python3 python3-pytest \
 && rm -rf /var/lib/apt/lists/*
COPY --from=pack /tmp/gryphgen.tgz /tmp/gryphgen.tgz
RUN NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix /opt/gryphgen --omit=optional --no-audit --no-fund /tmp/gryphgen.tgz \
 && /opt/gryphgen/node_modules/.bin/gryphgen setup --gpu cpu \
 && ln -s /opt/gryphgen/node_modules/.bin/gryphgen /usr/local/bin/gryphgen \
 && rm /tmp/gryphgen.tgz && npm cache clean --force
WORKDIR /opt/gryphgen
ENV GRYPHGEN_DATA_DIR=/data \
    GRYPHGEN_API_HOST=0.0.0.0 \
    NODE_ENV=production
RUN mkdir -p /data /invite && chown node:node /data /invite
VOLUME ["/data"]
# 7410: peers (libp2p TCP); 7411: HTTP API
EXPOSE 7410 7411
USER node
# Healthy once GET /v1/ready answers 200 (mesh, ledger, worker pool and sandbox probe up). The
# slim image has no curl: node's own fetch, at the port the node wrote to <data-dir>/api-port.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const d=process.env.GRYPHGEN_DATA_DIR||'/data';let p=process.env.GRYPHGEN_API_PORT||'7411';try{p=require('fs').readFileSync(d+'/api-port','utf8').trim()}catch{}fetch('http://127.0.0.1:'+p+'/v1/ready',{signal:AbortSignal.timeout(8000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "gryphgen"]
CMD ["start"]
