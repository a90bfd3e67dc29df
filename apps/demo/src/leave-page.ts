/**
 * Leaving the demo for another site (an identity provider's sign-in page). One object so tests
 * can watch where the page would have gone (jsdom does not navigate).
 */
export const leavePage = {
  to(url: string): void {
    window.location.assign(url);
  },
};
