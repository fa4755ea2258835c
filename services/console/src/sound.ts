let context: AudioContext | undefined;

/**
 * A short two-tone alarm through WebAudio (no audio file). Browsers allow sound only after a user
 * gesture on the page: the login click counts.
 */
export function playAlarm(): void {
  try {
    context ??= new AudioContext();
    const now = context.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.18, 660],
      [0.36, 880],
    ] as const) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(now + offset);
      oscillator.stop(now + offset + 0.17);
    }
  } catch {
    // No audio device (a headless browser, a muted kiosk): the red colour still shows.
  }
}

/** Lets the audio context start inside a user gesture. */
export function unlockAudio(): void {
  try {
    context ??= new AudioContext();
    void context.resume();
  } catch {
    // ignore
  }
}
