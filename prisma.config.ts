import { defineConfig } from "prisma/config";

// Only `prisma generate` is used here; migrations are applied by the server (see README).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
