import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ARCFACE_TEMPLATE_112,
  DEFAULT_MODEL_FILES,
  DEFAULT_PROFILE_DIR,
  defaultProfile,
  faceApiProfile,
  insightfaceProfile,
  loadProfile,
  readOnnxSignature,
} from '@vigil/face-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDefaultProfile } from '../src/build.js';
import { OnnxGraphBuilder } from '../src/converter/onnx-graph.builder.js';

let scratch: string;

beforeAll(async () => {
  await buildDefaultProfile();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A tiny ONNX file with the given input and outputs (values are irrelevant: only the signature is read). */
function writeModel(
  file: string,
  input: [string, (number | string)[]],
  outputs: [string, (number | string)[]][],
): string {
  const g = new OnnxGraphBuilder('fixture');
  const x = g.input(input[0], input[1]);
  for (const [name, dims] of outputs) g.output(g.node('ReduceMean', [x], { keepdims: { i: 0 } }), name, dims);
  fs.writeFileSync(file, g.encode('test fixture'));
  return file;
}

describe('loadProfile', () => {
  it('resolves `default` to the built ArcFace profile with absolute paths to files that exist', () => {
    const profile = loadProfile('default');
    expect(profile.modelId).toBe('faceplugin-arcface512-mirror-int8-v1');
    expect(profile.embedder).toMatchObject({
      kind: 'arcface',
      inputSize: [112, 112],
      embeddingSize: 512,
      template: ARCFACE_TEMPLATE_112,
      mirrorAverage: true,
    });
    expect(profile.embedder.views).toBeUndefined();
    for (const file of [profile.detector.file, profile.embedder.file, profile.landmarks?.file]) {
      expect(path.isAbsolute(file as string)).toBe(true);
      expect(fs.existsSync(file as string)).toBe(true);
    }
    expect(path.dirname(profile.detector.file)).toBe(DEFAULT_PROFILE_DIR);
  });

  it('resolves `dlib` and `fast` to the same detector, landmarks and descriptor, with and without the views', () => {
    const fast = loadProfile('fast');
    const dlib = loadProfile('dlib');
    const profile = loadProfile('default');
    expect(dlib.modelId).toBe('dlib-resnet34-rot3-mirror-int8-v1');
    expect(dlib.embedder.views).toEqual([
      { degrees: 3, zoom: 1 },
      { degrees: -3, zoom: 1 },
    ]);
    expect(fast.name).toBe('fast');
    expect(fast.modelId).toBe('dlib-resnet34-mirror-int8-v1');
    expect(fast.embedder.views).toBeUndefined();
    expect({ ...dlib.embedder, views: undefined }).toEqual(fast.embedder);
    expect(dlib.detector).toEqual(fast.detector);
    expect(dlib.detector.kind).toBe('ssd-mobilenetv1');
    expect(profile.detector.kind).toBe('rfb');
    for (const other of [dlib, fast]) expect(profile.landmarks).toEqual(other.landmarks);
  });

  it('takes `accurate`, an earlier name of the dlib views, as the `dlib` profile', () => {
    expect(loadProfile('accurate')).toEqual(loadProfile('dlib'));
  });

  it('takes a folder or a profile.json path as well as a name', () => {
    const byName = loadProfile('default');
    expect(loadProfile(DEFAULT_PROFILE_DIR)).toEqual(byName);
    expect(loadProfile(path.join(DEFAULT_PROFILE_DIR, 'profile.json'))).toEqual(byName);
  });

  it('says model_not_built, naming npm run build, when the default profile is missing', () => {
    expect(() => loadProfile('default', { defaultDir: path.join(scratch, 'nothing') })).toThrow(
      expect.objectContaining({ code: 'model_not_built', message: expect.stringContaining('npm run build') }),
    );
  });

  it('says model_not_found for a user path without a profile, or whose model file is gone', () => {
    expect(() => loadProfile(path.join(scratch, 'no-such-dir'))).toThrow(
      expect.objectContaining({ code: 'model_not_found' }),
    );
    const dir = path.join(scratch, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'profile.json'),
      JSON.stringify({ ...faceApiProfile(), detector: { ...faceApiProfile().detector, file: 'gone.onnx' } }),
    );
    expect(() => loadProfile(dir)).toThrow(
      expect.objectContaining({ code: 'model_not_found', message: expect.stringContaining('gone.onnx') }),
    );
    fs.writeFileSync(path.join(dir, 'profile.json'), '{not json');
    expect(() => loadProfile(dir)).toThrow(expect.objectContaining({ code: 'model_not_found' }));
  });
});

describe('the built default profile', () => {
  it('names tensors and shapes that the ONNX files really have', () => {
    const profile = loadProfile('default');
    const detector = readOnnxSignature(profile.detector.file);
    // Any input size: the detector takes each frame at its own aspect (profile.dynamicInput).
    expect(profile.detector.dynamicInput).toBe(true);
    expect(detector.inputs).toEqual([{ name: profile.detector.input, dims: ['N', 3, 'H', 'W'] }]);
    expect(detector.outputs.map((o) => o.name).sort()).toEqual([...profile.detector.outputs].sort());
    const landmarks = readOnnxSignature(profile.landmarks?.file as string);
    expect(landmarks.inputs[0]?.dims).toEqual(['N', 3, 112, 112]);
    expect(landmarks.outputs).toEqual([{ name: profile.landmarks?.output, dims: ['N', 136] }]);
    const embedder = readOnnxSignature(profile.embedder.file);
    expect(embedder.inputs).toEqual([
      { name: profile.embedder.input, dims: ['N', 3, ...profile.embedder.inputSize] },
    ]);
    expect(embedder.outputs).toEqual([
      { name: profile.embedder.output, dims: ['N', profile.embedder.embeddingSize] },
    ]);
    expect(profile.embedder.template).toHaveLength(5);
  });
});

describe('buildDefaultProfile', () => {
  it('writes the models and the profile, then skips them while they are newer than their inputs', async () => {
    const out = path.join(scratch, 'build');
    expect((await buildDefaultProfile({ outputDir: out })).sort()).toEqual(
      Object.values(DEFAULT_MODEL_FILES).sort(),
    );
    expect(await buildDefaultProfile({ outputDir: out })).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'profile.json'), 'utf8'))).toEqual(defaultProfile());
    expect(JSON.parse(fs.readFileSync(path.join(out, 'dlib.json'), 'utf8'))).toEqual(faceApiProfile());
    // The same bytes as the build the other tests use: the conversions and the int8 descriptors'
    // calibrations are deterministic.
    for (const file of [
      DEFAULT_MODEL_FILES.embedder,
      DEFAULT_MODEL_FILES.dlibEmbedder,
      DEFAULT_MODEL_FILES.dlibEmbedderInt8,
      DEFAULT_MODEL_FILES.arcfaceEmbedder,
      DEFAULT_MODEL_FILES.arcfaceEmbedderInt8,
    ]) {
      const built = fs.readFileSync(path.join(DEFAULT_PROFILE_DIR, file));
      expect(fs.readFileSync(path.join(out, file)).equals(built), file).toBe(true);
    }
  }, 60_000);
});

describe('insightfaceProfile', () => {
  it('reads tensor names, embedding size and batch axis from the files given', () => {
    const scrfdOutputs = ['score', 'bbox', 'kps'].flatMap((kind, k) =>
      [8, 16, 32].map(
        (s) => [`${kind}_${s}`, ['?', '?', [1, 4, 10][k] as number]] as [string, (number | string)[]],
      ),
    );
    // Written in an order other than the standard one: the profile lists them in the standard order.
    const detectorFile = writeModel(
      path.join(scratch, 'scrfd.onnx'),
      ['input.1', ['?', 3, '?', '?']],
      scrfdOutputs.reverse(),
    );
    const embedderFile = writeModel(
      path.join(scratch, 'mbf.onnx'),
      ['input0', [1, 3, 112, 112]],
      [['output0', [1, 128]]],
    );
    const profile = insightfaceProfile({ detectorFile, embedderFile });
    expect(profile.detector).toMatchObject({
      kind: 'scrfd',
      input: 'input.1',
      outputs: [
        'score_8',
        'score_16',
        'score_32',
        'bbox_8',
        'bbox_16',
        'bbox_32',
        'kps_8',
        'kps_16',
        'kps_32',
      ],
      strides: [8, 16, 32],
      anchorsPerCell: 2,
      landmarkCount: 5,
      normalisation: { channels: 'rgb', layout: 'nchw', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] },
    });
    expect(profile.embedder).toMatchObject({
      kind: 'arcface',
      input: 'input0',
      output: 'output0',
      embeddingSize: 128,
      maxBatch: 1,
      inputSize: [112, 112],
      template: ARCFACE_TEMPLATE_112,
    });
    expect(profile.modelId).toBe('insightface-mbf');

    const dynamic = writeModel(
      path.join(scratch, 'r50.onnx'),
      ['data', ['batch', 3, 112, 112]],
      [['fc1', ['batch', 512]]],
    );
    const wide = insightfaceProfile({ detectorFile, embedderFile: dynamic, threshold: 0.3 });
    expect(wide.embedder).toMatchObject({ embeddingSize: 512, maxBatch: 32, output: 'fc1', input: 'data' });
    expect(wide.defaultThreshold).toBe(0.3);
    expect(wide.modelId).not.toBe(profile.modelId);
  });

  it('describes the standard ../shared/models files where this machine has them', () => {
    // Optional: a fresh clone has no ../shared; the fixtures above hold the same behaviour there.
    const shared = path.resolve(import.meta.dirname, '../../../shared/models');
    const detectorFile = path.join(shared, 'scrfd_500m_bnkps.onnx');
    const embedderFile = path.join(shared, 'mobilefacenet_128.onnx');
    if (!fs.existsSync(detectorFile) || !fs.existsSync(embedderFile)) return;
    const profile = insightfaceProfile({ detectorFile, embedderFile });
    expect(profile.detector.input).toBe('input.1');
    expect(profile.detector.outputs).toHaveLength(9);
    expect(profile.embedder).toMatchObject({
      input: 'input0',
      output: 'output0',
      embeddingSize: 128,
      maxBatch: 1,
    });
  });
});
