/** The messages between the hashing threads and the process that owns them. */
export interface Argon2Options {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export type HashingTask =
  | { operation: 'hash'; password: string; options: Argon2Options }
  | { operation: 'verify'; password: string; storedHash: string; options: Argon2Options };

export type HashingReply =
  | { value: string | boolean; error?: undefined }
  | { error: string; value?: undefined };

export interface HashingThreadData {
  nice: number;
}
