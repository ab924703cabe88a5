// App Configuration references (`@Microsoft.AppConfiguration(…)`) of an app, by name: read in
// src/read/read.ts, turned into the plan's notes and warnings in src/plan/app-configuration.ts.
import type { ReferenceCollection } from './references.js'

/** An app setting or connection string whose value is an App Configuration reference. */
export interface AppConfigurationReference {
  setting: string
  collection: ReferenceCollection
}

/** By app key; `undefined` as a value: the names could not be read (no config/list permission). */
export type AppConfigurationReferences = Map<string, AppConfigurationReference[] | undefined>
