/**
 * `sluice/checkpoint`: LevelDB checkpoints and recovery. Empty until the checkpoint work lands
 * (see the CHANGELOG); the entry point exists so the package's subpath exports are stable.
 */
export {};
