import { useReelkitClient } from "@reelkit/react";
import { mediaUrl } from "../media-url.js";

/**
 * A channel's round avatar, or its initial on a colour of its own when it has none. Decorative:
 * the channel's name always stands next to it.
 */
export function ChannelAvatar({
  channel,
  size = 40,
}: {
  channel: { name: string; handle: string; avatarUrl: string | null };
  size?: number;
}) {
  const client = useReelkitClient();
  const src = mediaUrl(client, channel.avatarUrl);
  const style = { width: size, height: size, fontSize: size * 0.45 };
  if (src) return <img className="demo-avatar" src={src} alt="" width={size} height={size} style={style} />;
  let hue = 0;
  for (const c of channel.handle) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  return (
    <span
      className="demo-avatar demo-avatar--initial"
      aria-hidden="true"
      style={{ ...style, background: `hsl(${hue} 45% 35%)` }}
    >
      {(channel.name.trim()[0] ?? channel.handle[0] ?? "?").toUpperCase()}
    </span>
  );
}
