export declare const SERVER_HEAP_FLAGS: readonly string[];
/** NODE_OPTIONS for the server: the heap defaults, then the operator's NODE_OPTIONS (which win). */
export declare function serverNodeOptions(nodeOptions?: string): string;
