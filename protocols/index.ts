/** Wire formats: every message that crosses a process or machine boundary, one schema each. */
export * from './advert.js'
export * from './invite.js'
export * from './ledger.js'
export * from './ledger-sync.js'
export * from './worker.js'
export * from './blob.js'
export * from './model.js'
