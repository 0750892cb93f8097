// The session factory over onnxruntime (web in the app and in Node tests). Only types are imported here:
// the module itself is handed in, so one onnxruntime-web copy is loaded, where the caller chooses.
import type * as Ort from 'onnxruntime-web';
import type { SessionFactory } from './pool';

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

interface DeviceLike {
  lost?: Promise<{ reason?: string; message?: string }>;
}

/** Creates onnxruntime sessions on one EP each and reports the loss of the WebGPU device. */
export function ortSessionFactory(
  ort: OrtModule,
  options: Ort.InferenceSession.SessionOptions = {},
): SessionFactory<OrtSession> {
  const watched = new WeakSet<object>();
  return {
    async create(bytes, ep, hooks) {
      const session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: 'all',
        ...options,
        executionProviders: [ep],
      });
      if (ep === 'webgpu') {
        try {
          const device = (await ort.env.webgpu.device) as DeviceLike | undefined;
          if (device?.lost && !watched.has(device)) {
            watched.add(device);
            void device.lost.then((info) =>
              hooks.onDeviceLost(info.message || info.reason || 'no reason given'),
            );
          }
        } catch {
          // No device to watch: nothing to report.
        }
      }
      return session;
    },
  };
}

/** The part of onnxruntime's module the pipeline uses (onnxruntime-web and onnxruntime-node both fit). */
export interface OrtLike {
  Tensor: typeof Ort.Tensor;
  InferenceSession: {
    create(bytes: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession>;
  };
}
