/*
 * The autoscaler's configuration: env inactivity_duration (provider-wide idle time before scale
 * to zero) and autoscale_interval, and the per-backend `autoscale:` key of the config file.
 */
import t from 'tap'
import { DEFAULT_AUTOSCALE_INTERVAL_MS, DEFAULT_INACTIVITY_DURATION_MS, loadConfig } from '../../src/config.ts'

t.test('defaults and env overrides', async (t) => {
  const c = loadConfig({ HOME: '/home/u' })
  t.same(c.autoscale, { zeroDurationMs: DEFAULT_INACTIVITY_DURATION_MS, intervalMs: DEFAULT_AUTOSCALE_INTERVAL_MS })
  t.equal(DEFAULT_INACTIVITY_DURATION_MS, 15 * 60_000, "15 minutes, as faas-idler's inactivity_duration")
  t.same(loadConfig({ HOME: '/h', inactivity_duration: '30s', autoscale_interval: '500ms' }).autoscale, { zeroDurationMs: 30_000, intervalMs: 500 })
  t.same(loadConfig({ HOME: '/h', inactivity_duration: '2' }).autoscale.zeroDurationMs, 2000, 'plain seconds')
  t.throws(() => loadConfig({ HOME: '/h', inactivity_duration: 'soon' }), /inactivity_duration: "soon" is not a duration/)
  t.throws(() => loadConfig({ HOME: '/h', inactivity_duration: '0s' }), /inactivity_duration: must be above 0/)
  t.throws(() => loadConfig({ HOME: '/h', autoscale_interval: '1ms' }), /autoscale_interval: must be at least 10ms/)
})

t.test('config file: autoscale per backend (scale | report | off), absent unless set', async (t) => {
  const files: Record<string, string> = {
    'modes.yaml': 'backends:\n  local:\n    namespaces: [openfaas-fn]\n  aws:\n    driver: lambda\n    namespaces: [aws]\n    autoscale: off\n',
    'bad.yaml': 'backends:\n  local:\n    namespaces: [openfaas-fn]\n    autoscale: sometimes\n'
  }
  const read = (f: string): string => files[f] as string
  const c = loadConfig({ config_file: 'modes.yaml', HOME: '/h' }, read)
  t.equal(c.backends[0]?.autoscale, undefined, 'by driver when not set')
  t.equal(c.backends[1]?.autoscale, 'off')
  t.throws(() => loadConfig({ config_file: 'bad.yaml', HOME: '/h' }, read), /bad\.yaml: backends\.local\.autoscale: expected scale, report or off, got "sometimes"/)
})
