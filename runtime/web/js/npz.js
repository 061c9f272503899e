// Reads numpy .npz archives (zip of .npy arrays, stored or deflated) in the browser, so the page
// replays runtime/data/sample_recording.npz itself: one file, no exported copy to keep in step.

const DTYPES = {
  '<f8': Float64Array, '<f4': Float32Array, '|i1': Int8Array, '|u1': Uint8Array,
  '<i2': Int16Array, '<i4': Int32Array, '<i8': BigInt64Array, '|b1': Uint8Array,
};

async function inflateRaw(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function zipEntries(buf) {
  const view = new DataView(buf);
  let eocd = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end-of-central-directory record)');
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (offset === 0xffffffff || count === 0xffff) {
    // zip64: locator just before the classic record points at the zip64 record
    const loc = eocd - 20;
    const rec = Number(view.getBigUint64(loc + 8, true));
    count = Number(view.getBigUint64(rec + 32, true));
    offset = Number(view.getBigUint64(rec + 48, true));
  }
  const entries = [];
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(offset, true) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = view.getUint16(offset + 10, true);
    let csize = view.getUint32(offset + 20, true);
    let usize = view.getUint32(offset + 24, true);
    const nameLen = view.getUint16(offset + 28, true);
    const extraLen = view.getUint16(offset + 30, true);
    const commentLen = view.getUint16(offset + 32, true);
    let local = view.getUint32(offset + 42, true);
    const name = decoder.decode(new Uint8Array(buf, offset + 46, nameLen));
    // zip64 extended information: the fields that overflowed, in this order
    let p = offset + 46 + nameLen;
    const end = p + extraLen;
    while (p + 4 <= end) {
      const id = view.getUint16(p, true), size = view.getUint16(p + 2, true);
      if (id === 0x0001) {
        let q = p + 4;
        if (usize === 0xffffffff) { usize = Number(view.getBigUint64(q, true)); q += 8; }
        if (csize === 0xffffffff) { csize = Number(view.getBigUint64(q, true)); q += 8; }
        if (local === 0xffffffff) { local = Number(view.getBigUint64(q, true)); }
      }
      p += 4 + size;
    }
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    entries.push({ name, method, csize, usize, dataStart });
    offset += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Parses one .npy file: {shape, dtype, data} with data a typed array in C order. */
export function parseNpy(bytes) {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy array');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const Type = DTYPES[descr];
  if (!Type) throw new Error(`unsupported .npy dtype ${descr}`);
  if (fortran && shape.length > 1) throw new Error('Fortran-ordered .npy arrays are not supported');
  const start = headerStart + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = bytes.slice(start, start + count * Type.BYTES_PER_ELEMENT);
  return { shape, dtype: descr, data: new Type(raw.buffer) };
}

/** Reads every array of an .npz archive: {name: {shape, dtype, data}}. */
export async function readNpz(arrayBuffer) {
  const out = {};
  for (const e of zipEntries(arrayBuffer)) {
    const body = new Uint8Array(arrayBuffer, e.dataStart, e.csize);
    let bytes;
    if (e.method === 0) bytes = body.slice();
    else if (e.method === 8) bytes = await inflateRaw(body);
    else throw new Error(`${e.name}: unsupported zip compression method ${e.method}`);
    out[e.name.replace(/\.npy$/, '')] = parseNpy(bytes);
  }
  return out;
}
