export { loadConfig, PROGRAM, type LoadResult } from "./load.ts";
export {
  configSchema,
  GROUPS,
  settingKeys,
  settings,
  type Config,
  type Presence,
  type RawConfig,
  type Setting,
  type SettingGroup,
  type SettingKey,
} from "./settings.ts";
export {
  formatBytes,
  formatDuration,
  GiB,
  isPowerOfTwo,
  KiB,
  MiB,
  parseBoolean,
  parseBroker,
  parseByteSize,
  parseDuration,
  parseInteger,
  parseList,
} from "./parse-values.ts";
export type { ValueType } from "./value-types.ts";
