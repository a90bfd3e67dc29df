import type { ReelkitClient } from "@reelkit/sdk";
import { createContext, type ReactNode, useContext } from "react";

const ClientContext = createContext<ReelkitClient | null>(null);

export interface ReelkitProviderProps {
  client: ReelkitClient;
  children?: ReactNode;
}

/** Makes a Reelkit client available to every hook and component below it. */
export function ReelkitProvider({ client, children }: ReelkitProviderProps) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useReelkitClient(): ReelkitClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useReelkitClient: wrap your tree in <ReelkitProvider client={...}>");
  return client;
}
