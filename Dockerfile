# syntax=docker/dockerfile:1
# driftguard: the admission webhook image. Build: docker build -t REGISTRY/driftguard:0.1.0 .
# Node 26 is the Active LTS line (package.json engines: >=20.19).
ARG NODE_IMAGE=node:26-slim

# Build: every dependency, then TypeScript -> dist/ and the bin's bundle -> dist/bin/ (esbuild), with
# V8's code cache of the bundle, made by running it once with this image's Node: serving the sample
# policies with the ENTRYPOINT's flags, and a command without flags (scripts/bundle.mjs).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/serve-flags.mjs ./scripts/
COPY src ./src
COPY policies ./policies
RUN npm run build

# Run: production dependencies and the build only, as a non-root user.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Source maps and type declarations are never read at run time (no --enable-source-maps): 45 MB
# of the 104 MB node_modules (docs/image.md).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' \) -delete
COPY --from=build /src/dist ./dist
COPY policies ./policies
COPY schema ./schema
# 1000:1000 is the image's `node` user; numeric, so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8443
# --max-semi-space-size=8: V8's young generation at 8 MB semi-spaces. Reviews are short-lived garbage;
# the default's larger semi-spaces only raise RSS under load (docs/performance.md: about 20 MB less
# for the same CPU). The same flags as package.json's start script.
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/cli.js"]
# Without arguments: a development certificate in /tmp (the root filesystem may be read-only). The
# Deployment passes its own arguments (manifests/base/deployment.yaml).
CMD ["serve", "--cert-dir", "/tmp/certs", "--records", "-"]
