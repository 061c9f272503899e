// onnxruntime-web does not expose a model's metadata_props, and the engine graph keeps its contract
// there (hop, window, state_size, delay_samples, class names): read them from the ModelProto bytes.

function readVarint(bytes, pos) {
  let value = 0, scale = 1, b;
  do {
    b = bytes[pos++];
    value += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  return [value, pos];
}

function fields(bytes, start, end, visit) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = readVarint(bytes, pos);
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) { [, pos] = readVarint(bytes, pos); }
    else if (wire === 1) { pos += 8; }
    else if (wire === 5) { pos += 4; }
    else if (wire === 2) {
      let len;
      [len, pos] = readVarint(bytes, pos);
      visit(field, pos, pos + len);
      pos += len;
    } else throw new Error(`malformed ONNX file (protobuf wire type ${wire})`);
  }
}

/** ModelProto.metadata_props (field 14) of an ONNX file as a plain {key: value} object. */
export function readOnnxMetadata(arrayBuffer) {
  const bytes = new Uint8Array(arrayBuffer);
  const text = new TextDecoder();
  const meta = {};
  fields(bytes, 0, bytes.length, (field, start, end) => {
    if (field !== 14) return;
    let key = '', value = '';
    fields(bytes, start, end, (f, s, e) => {
      if (f === 1) key = text.decode(bytes.subarray(s, e));
      else if (f === 2) value = text.decode(bytes.subarray(s, e));
    });
    meta[key] = value;
  });
  return meta;
}
