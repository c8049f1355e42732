// Draws I420 pictures (separate Y, U and V planes, as the decoder makes them) on a canvas
// with WebGL: the planes go up as three one-channel textures and a fragment shader turns
// them into RGB, so the CPU never touches a pixel. WebGL 1 is enough and is what every
// webview has.

/** One picture: tightly packed planes, U and V at half size rounded up. */
export interface I420Picture {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

const VERTEX = `
attribute vec2 pos;
varying vec2 uv;
void main() {
  uv = vec2((pos.x + 1.0) / 2.0, (1.0 - pos.y) / 2.0);
  gl_Position = vec4(pos, 0.0, 1.0);
}`;

// BT.601 limited range, which is what the H.264 encoder and the test pattern produce.
const FRAGMENT = `
precision mediump float;
varying vec2 uv;
uniform sampler2D texY;
uniform sampler2D texU;
uniform sampler2D texV;
void main() {
  float y = 1.16438 * (texture2D(texY, uv).r - 0.0627451);
  float u = texture2D(texU, uv).r - 0.5;
  float v = texture2D(texV, uv).r - 0.5;
  gl_FragColor = vec4(y + 1.59603 * v, y - 0.39176 * u - 0.81297 * v, y + 2.01723 * u, 1.0);
}`;

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error("WebGL: cannot create a shader");
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`WebGL: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

export class I420Renderer {
  private readonly gl: WebGLRenderingContext;
  private readonly textures: WebGLTexture[];

  /** Throws when the canvas has no WebGL. */
  constructor(readonly canvas: HTMLCanvasElement) {
    // preserveDrawingBuffer: the picture can be read back (tests, screenshots) after drawing.
    const gl = canvas.getContext("webgl", { preserveDrawingBuffer: true, antialias: false, alpha: false });
    if (!gl) throw new Error("WebGL is not available");
    this.gl = gl;
    const program = gl.createProgram();
    if (!program) throw new Error("WebGL: cannot create a program");
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`WebGL: ${gl.getProgramInfoLog(program)}`);
    gl.useProgram(program);

    const quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const pos = gl.getAttribLocation(program, "pos");
    gl.enableVertexAttribArray(pos);
    gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);

    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1); // planes are tightly packed, widths may be odd
    this.textures = ["texY", "texU", "texV"].map((name, unit) => {
      const tex = gl.createTexture();
      if (!tex) throw new Error("WebGL: cannot create a texture");
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      gl.uniform1i(gl.getUniformLocation(program, name), unit);
      return tex;
    });
  }

  draw(p: I420Picture): void {
    const gl = this.gl;
    if (this.canvas.width !== p.width || this.canvas.height !== p.height) {
      this.canvas.width = p.width;
      this.canvas.height = p.height;
    }
    gl.viewport(0, 0, p.width, p.height);
    const cw = (p.width + 1) >> 1;
    const ch = (p.height + 1) >> 1;
    const planes: [Uint8Array, number, number][] = [
      [p.y, p.width, p.height],
      [p.u, cw, ch],
      [p.v, cw, ch],
    ];
    planes.forEach(([data, w, h], unit) => {
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, this.textures[unit]!);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.LUMINANCE, w, h, 0, gl.LUMINANCE, gl.UNSIGNED_BYTE, data);
    });
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}

/** The header in front of every frame on the app's frame socket (see src-tauri/src/frames.rs). */
export const FRAME_HEADER_BYTES = 32;

export interface SocketFrame extends I420Picture {
  participant: number;
  /** `self`: our own camera, the self view (participant 0). */
  kind: "camera" | "screen" | "self";
  /** µs since the Unix epoch; 0 when unknown. */
  captureUs: number;
  /** When the app queued it, µs since the Unix epoch. */
  sentUs: number;
}

/** The track byte's values. */
const FRAME_TRACKS: Readonly<Record<number, SocketFrame["kind"]>> = { 0: "camera", 1: "screen", 2: "self" };

/** Reads one frame socket message; null when it is not a frame of the known layout. */
export function parseFrame(buf: ArrayBuffer): SocketFrame | null {
  if (buf.byteLength < FRAME_HEADER_BYTES) return null;
  const h = new DataView(buf, 0, FRAME_HEADER_BYTES);
  if (h.getUint8(0) !== 1) return null;
  const track = h.getUint8(1);
  const kind = FRAME_TRACKS[track];
  if (!kind) return null;
  const width = h.getUint32(8, true);
  const height = h.getUint32(12, true);
  const luma = width * height;
  const chroma = ((width + 1) >> 1) * ((height + 1) >> 1);
  if (buf.byteLength !== FRAME_HEADER_BYTES + luma + 2 * chroma) return null;
  return {
    participant: h.getUint32(4, true),
    kind,
    width,
    height,
    captureUs: Number(h.getBigUint64(16, true)),
    sentUs: Number(h.getBigUint64(24, true)),
    y: new Uint8Array(buf, FRAME_HEADER_BYTES, luma),
    u: new Uint8Array(buf, FRAME_HEADER_BYTES + luma, chroma),
    v: new Uint8Array(buf, FRAME_HEADER_BYTES + luma + chroma, chroma),
  };
}

/** Now, in µs since the Unix epoch, finer than Date.now(). */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
