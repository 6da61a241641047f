export { diagnose, type DoctorFacts, type Finding, type Severity } from './diagnose.js'
export { gatherFacts, tcpReachable } from './gather.js'
