// What the test receiver can be told to do and what it records; shared by its Node and workerd sides.

export type Behaviour =
  | {
      status: number;
      delayMs?: number;
      randomDelayMs?: [number, number];
      body?: string;
      headers?: Record<string, string>;
      /** Answer with the request's own body (what an echo service does: it verifies nothing). */
      echo?: boolean;
      /**
       * Answer a `webhook-challenge` as a receiver written with the `standardwebhooks` library does: its own
       * endpointVerificationResponse with the bucket's first secret (the secret given here, if any).
       */
      answerChallenge?: boolean | { secret: string };
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
  /** High-resolution times (ms) when the request arrived and when its answer was sent (null until it was). */
  arrivedHr: number;
  answeredHr: number | null;
}

/** A bucket's requests and the most it ever had open at once (arrived, not yet answered). */
export interface BucketReport {
  requests: RecordedRequest[];
  peakOpen: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}
