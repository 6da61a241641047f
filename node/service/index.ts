/** Running a node as a systemd service: the unit (pure) and its install/uninstall. */
export { serviceUnit, enableHint, execWord, UNIT_NAME, DEFAULT_SERVICE_USER, DEFAULT_SYSTEM_DATA_DIR, type UnitInit } from './unit.js'
export { installService, uninstallService, planService, binPath, type ServiceOptions, type ServicePlan } from './install.js'
