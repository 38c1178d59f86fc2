// What the test receiver can be told to do and what it records; shared by its Node and workerd sides.

export type Behaviour =
  | {
      status: number;
      delayMs?: number;
      randomDelayMs?: [number, number];
      body?: string;
      headers?: Record<string, string>;
      /** Answer with the request's own body (what an endpoint echoing a verification challenge does). */
      echo?: boolean;
    }
  | { hang: true }
  | { close: true };

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Null when the bucket has no secret to check with. */
  standardValid: boolean | null;
  respondIoValid: boolean | null;
  /** What the receiver did: a status code, "hang" or "close". */
  outcome: number | "hang" | "close";
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}
