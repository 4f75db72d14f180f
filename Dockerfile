# Multi-stage build: compile with the dev dependencies, run with production ones as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY patches ./patches
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production FILUDVEKSLING_DATA=/data SFTP_PORT=2222 HTTP_HOST=0.0.0.0 HTTP_PORT=8080 PORTAL_HOST=0.0.0.0 PORTAL_PORT=8081
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
# The portal's templates and stylesheet are read at run time (not compiled).
COPY --from=build /app/src/portal/views ./src/portal/views
COPY --from=build /app/src/portal/assets ./src/portal/assets
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 2222 8080 8081
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
