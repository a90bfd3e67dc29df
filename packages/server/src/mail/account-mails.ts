import type { Mail } from "./mailer.js";

interface Recipient {
  email: string;
  name?: string | null;
}

const greeting = (user: Recipient) => `Hello${user.name ? ` ${user.name}` : ""},`;

/** The password-reset mail: its link works once, for REELKIT_PASSWORD_RESET_TTL. */
export function resetPasswordMail(user: Recipient, url: string): Mail {
  return {
    to: user.email,
    subject: "Reset your Reelkit password",
    text: [
      greeting(user),
      "",
      "Someone (we hope you) asked to reset the password of your Reelkit account.",
      "Choose a new one here:",
      "",
      url,
      "",
      "The link works once and expires soon. If you did not ask for it, ignore this mail:",
      "your password stays as it is.",
    ].join("\n"),
  };
}

/** The address-verification mail sent at sign-up (and on request). */
export function verificationMail(user: Recipient, url: string): Mail {
  return {
    to: user.email,
    subject: "Verify your e-mail address for Reelkit",
    text: [
      greeting(user),
      "",
      "Confirm that this address belongs to your Reelkit account:",
      "",
      url,
      "",
      "If you did not create an account, ignore this mail.",
    ].join("\n"),
  };
}
