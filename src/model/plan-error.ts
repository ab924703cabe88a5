/** A refusal found while planning, before any write: the message says why and the fix. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PlanError'
  }
}
