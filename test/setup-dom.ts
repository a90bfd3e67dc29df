import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// The pages talk to a real server over HTTP; on a busy machine its first answer can take longer
// than Testing Library's 1 s default for findBy*/waitFor.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => cleanup());

// Under REELKIT_REACT_MODULES (test/react-versions.test.ts) say which React the files run on.
if (process.env.REELKIT_REACT_MODULES) {
  const { version } = await import("react");
  console.log(`dom tests on React ${version}`);
}
