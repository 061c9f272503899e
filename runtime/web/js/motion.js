// The phone's DeviceMotion events in the engine's units and sign.
//
// accelerationIncludingGravity is in m/s^2; the engine wants g with the Android sign (a phone lying
// flat, screen up, reads z = +1 g). Chrome on Android follows that sign; Safari on iOS reports the
// opposite one (z = -1 g flat), so iOS values are negated.
// rotationRate is in deg/s, and browsers name the device axes alpha = x, beta = y, gamma = z
// (the DeviceOrientation spec's DeviceMotionEventRotationRate: "alpha ... x axis rotation rate").

export const STANDARD_GRAVITY = 9.80665;        // m/s^2 per g
const RAD_PER_DEG = Math.PI / 180;

export function isIOS(nav = navigator) {
  return /iPad|iPhone|iPod/.test(nav.userAgent) || (nav.platform === 'MacIntel' && nav.maxTouchPoints > 1);
}

/** Sign applied to accelerationIncludingGravity: +1 (Android, spec) or -1 (iOS); ?accsign= overrides. */
export function accelerationSign(params = new URLSearchParams(location.search), nav = navigator) {
  const forced = params.get('accsign');
  if (forced === '1' || forced === '+1') return 1;
  if (forced === '-1') return -1;
  return isIOS(nav) ? -1 : 1;
}

/**
 * One DeviceMotionEvent in engine units.
 * @returns {{acc: number[], gyro: number[]}|null} acc x,y,z in g, gyro x,y,z in rad/s; null when
 *   the event carries no acceleration or no rotation rate.
 */
export function motionToEngine(event, accSign) {
  const a = event.accelerationIncludingGravity, r = event.rotationRate;
  if (!a || a.x === null || a.y === null || a.z === null) return null;
  if (!r || r.alpha === null || r.beta === null || r.gamma === null) return null;
  const s = accSign / STANDARD_GRAVITY;
  return {
    acc: [a.x * s, a.y * s, a.z * s],
    gyro: [r.alpha * RAD_PER_DEG, r.beta * RAD_PER_DEG, r.gamma * RAD_PER_DEG],
  };
}

/** Asks for motion access where the browser requires it (iOS 13+: must run inside a user gesture). */
export async function requestMotionPermission() {
  if (typeof DeviceMotionEvent === 'undefined') return 'unsupported';
  if (typeof DeviceMotionEvent.requestPermission !== 'function') return 'granted';
  try {
    return await DeviceMotionEvent.requestPermission();
  } catch (err) {
    return 'denied';
  }
}

/** Events per second over a sliding span of event times (s). */
export class RateMeter {
  constructor(spanS = 2) { this.spanS = spanS; this.times = []; }
  reset() { this.times = []; }
  add(t) {
    this.times.push(t);
    while (this.times.length && this.times[0] < t - this.spanS) this.times.shift();
  }
  /** Hz, or null until the span is covered. */
  rate() {
    const n = this.times.length;
    if (n < 2 || this.times[n - 1] - this.times[0] < this.spanS * 0.9) return null;
    return (n - 1) / (this.times[n - 1] - this.times[0]);
  }
}
