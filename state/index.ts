/**
 * `sluice/state`: keyed state operators and state stores. Empty until the keyed-state work lands
 * (see the CHANGELOG); the entry point exists so the package's subpath exports are stable.
 */
export {};
