import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPublicAddress, WebhookUrlRefused } from "./address-guard.js";

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "ff02::1",
    "not an address",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("accepts %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe("checkWebhookUrl", () => {
  it("refuses loopback, private and metadata hosts, by literal or by name, unless private addresses are allowed", async () => {
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://[::1]/hook",
      "http://169.254.169.254/latest/meta-data",
      "https://10.1.2.3/hook",
      "http://[::ffff:127.0.0.1]/hook",
    ]) {
      await expect(checkWebhookUrl(url, false), url).rejects.toBeInstanceOf(WebhookUrlRefused);
    }
    await expect(checkWebhookUrl("http://127.0.0.1:8080/hook", true)).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl("http://localhost/hook", true)).resolves.toBeInstanceOf(URL);
  });

  it("accepts a public address and refuses other schemes, credentials and names that do not resolve", async () => {
    await expect(checkWebhookUrl("https://93.184.215.14/hook", false)).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl("ftp://93.184.215.14/hook", false)).rejects.toThrow(/http or https/);
    await expect(checkWebhookUrl("https://user:pw@93.184.215.14/hook", false)).rejects.toThrow(/credentials/);
    await expect(checkWebhookUrl("https://no-such-host.invalid/hook", false)).rejects.toThrow(/does not resolve/);
  });
});
