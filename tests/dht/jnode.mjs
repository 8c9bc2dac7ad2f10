// bittorrent-dht nodes for the DHT swarm test (driven by swarm.py).
//
//   node jnode.mjs IP[:PORT] ... --bootstrap HOST:PORT [--bootstrap ...]
//
// Starts one bittorrent-dht 11 instance per address. Reads commands, one
// JSON object a line, on stdin:
//   {"cmd":"announce","node":I,"ih":HEX,"port":N}   (port 0: implied_port)
//   {"cmd":"lookup","node":I,"ih":HEX}
//   {"cmd":"addnode","node":I,"host":IP,"port":N}
//   {"cmd":"table"}                                  (routing tables)
//   {"cmd":"quit"}
// and writes events, one JSON object a line, on stdout: "ready" (with the
// node id), "pkt" (every datagram in or out, raw bytes in base64, the
// ground truth), "done" (an announce or lookup finished), "err" (k-rpc's
// "Unexpected node id" replies and its warnings, with the peer they concern),
// "table". Exits when stdin closes, so it never outlives swarm.py.
import DHT from 'bittorrent-dht'
import readline from 'readline'

const addrs = []
const bootstrap = []
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--bootstrap') bootstrap.push(process.argv[++i])
  else addrs.push(process.argv[i])
}

process.stdout.on('error', () => process.exit(0))

function out (o) {
  o.t = Date.now() / 1000
  process.stdout.write(JSON.stringify(o) + '\n')
}

function hookSocket (i, dht) {
  const ks = dht._rpc.socket // k-rpc-socket
  const dg = ks.socket // dgram
  dg.prependListener('message', (buf, rinfo) => {
    out({ ev: 'pkt', node: i, dir: 'in', ip: rinfo.address, port: rinfo.port, b64: buf.toString('base64') })
  })
  const send = dg.send.bind(dg)
  dg.send = (buf, off, len, port, host, cb) => {
    // node re-enters send(list, port, host, cb) for sends queued before bind
    if (typeof off === 'number' && typeof host === 'string') out({ ev: 'pkt', node: i, dir: 'out', ip: host, port, b64: Buffer.from(buf).subarray(off, off + len).toString('base64') })
    return send(buf, off, len, port, host, cb)
  }
  // "Unexpected node id" reaches only the query's callback.
  const query = ks.query.bind(ks)
  ks.query = (peer, q, cb) => query(peer, q, (err, ...rest) => {
    if (err && err.code === 'EUNEXPECTEDNODE') {
      out({ ev: 'err', node: i, kind: 'unexpected-node-id', ip: peer.host, port: peer.port, expected: peer.id ? Buffer.from(peer.id).toString('hex') : null })
    }
    if (cb) cb(err, ...rest)
  })
  // Warnings about responses ("Unexpected transaction id", "Out of order
  // response") come right after a 'response' event carrying the sender.
  let last = null
  const emit = ks.emit.bind(ks)
  ks.emit = (name, ...args) => {
    if (name === 'response') last = args[1]
    else if (name === 'warning') {
      out({ ev: 'err', node: i, kind: 'warning', msg: String(args[0] && args[0].message), ip: last ? last.address : '', port: last ? last.port : 0 })
      last = null
    }
    return emit(name, ...args)
  }
}

const dhts = addrs.map((a, i) => {
  const [host, port] = a.split(':')
  const dht = new DHT({ bootstrap, host: false })
  dht.on('error', err => out({ ev: 'err', node: i, kind: 'error', msg: String(err.message) }))
  dht.on('warning', () => {}) // reported through the socket hook
  hookSocket(i, dht)
  dht.listen(Number(port || 6881), host, () => {
    out({ ev: 'ready', node: i, id: dht.nodeId.toString('hex'), ip: host, port: Number(port || 6881) })
  })
  return dht
})

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', line => {
  let c
  try { c = JSON.parse(line) } catch { return }
  const dht = dhts[c.node]
  if (c.cmd === 'announce') {
    dht.announce(c.ih, c.port, err => out({ ev: 'done', node: c.node, op: 'announce', ih: c.ih, err: err ? String(err.message) : null }))
  } else if (c.cmd === 'lookup') {
    dht.lookup(c.ih, err => out({ ev: 'done', node: c.node, op: 'lookup', ih: c.ih, err: err ? String(err.message) : null }))
  } else if (c.cmd === 'addnode') {
    dht.addNode({ host: c.host, port: c.port })
  } else if (c.cmd === 'table') {
    dhts.forEach((d, i) => out({ ev: 'table', node: i, nodes: d.toJSON().nodes }))
  } else if (c.cmd === 'quit') {
    rl.close()
  }
})
rl.on('close', () => {
  let left = dhts.length
  if (!left) process.exit(0)
  dhts.forEach(d => d.destroy(() => { if (--left === 0) process.exit(0) }))
  setTimeout(() => process.exit(0), 1000).unref()
})
