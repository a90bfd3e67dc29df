import type { Config } from "@reelkit/core";
import { AuthService } from "../src/auth/auth-service.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";

/** A fixed secret for tests (a real server generates or is given one). */
export const TEST_SECRET = "reelkit-test-secret-0123456789abcdefghijklmnop";

/** The real AuthService on a test database. */
export function testAuth(prisma: PrismaClient, config: Config): AuthService {
  return new AuthService({ config, prisma, secret: TEST_SECRET });
}
