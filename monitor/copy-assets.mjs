#!/usr/bin/env node
/*
 * Part of `npm run build`: copies the dashboard's hand-written files (monitor/assets/) beside the
 * compiled monitor (dist/monitor/assets/), where serveMonitor reads them. tsc copies no such files.
 */
import { cpSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

cpSync(fileURLToPath(new URL('./assets/', import.meta.url)), fileURLToPath(new URL('../dist/monitor/assets/', import.meta.url)), { recursive: true });
