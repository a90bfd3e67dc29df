import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LinkedText, linkParts } from "./linked-text.js";

describe("linkParts", () => {
  it("links http and https addresses, leaving sentence punctuation outside", () => {
    expect(linkParts("See https://example.com/a?b=1, and (http://x.org/path).")).toEqual([
      { text: "See " },
      { href: "https://example.com/a?b=1", text: "https://example.com/a?b=1" },
      { text: ", and (" },
      { href: "http://x.org/path", text: "http://x.org/path" },
      { text: ")." },
    ]);
  });

  it("never links other schemes or markup", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<b>x</b>", "<a href='https://x'>x</a>", "ftp://x.org"]) {
      expect(linkParts(text).every((p) => !("href" in p) || p.href.startsWith("http"))).toBe(true);
    }
    expect(linkParts("javascript:alert(1)")).toEqual([{ text: "javascript:alert(1)" }]);
  });
});

describe("<LinkedText>", () => {
  it("renders links that open apart from the site and escapes everything else", () => {
    const { container } = render(
      <p>
        <LinkedText text={'<img src=x onerror="alert(1)"> https://example.com/watch'} />
      </p>,
    );
    expect(container.querySelector("img")).toBeNull();
    const links = container.querySelectorAll("a");
    expect(links).toHaveLength(1);
    expect(links[0]?.getAttribute("href")).toBe("https://example.com/watch");
    expect(links[0]?.getAttribute("rel")).toBe("noopener noreferrer nofollow ugc");
    expect(links[0]?.getAttribute("target")).toBe("_blank");
    expect(container.textContent).toContain('<img src=x onerror="alert(1)">');
  });
});
