/** One `vigil` sub-command: `run` resolves to the process exit status. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}
