// The clone.* engine operations (implementation in progress).
import type { RunOptions } from '../engine/types';
import type {
  CloneConvertArgs,
  CloneConvertResult,
  CloneExtractArgs,
  CloneExtractResult,
  CloneInstallArgs,
  CloneInstallResult,
  CloneSpeakArgs,
  CloneSpeakResult,
  CloneStatusResult,
} from './types';

const todo = (): never => {
  throw new Error('Voice cloning is being built.');
};

export async function runCloneInstall(
  _a: CloneInstallArgs,
  _o: RunOptions = {},
): Promise<CloneInstallResult> {
  return todo();
}
export async function runCloneStatus(): Promise<CloneStatusResult> {
  return todo();
}
export async function runCloneExtract(
  _a: CloneExtractArgs,
  _o: RunOptions = {},
): Promise<CloneExtractResult> {
  return todo();
}
export async function runCloneConvert(
  _a: CloneConvertArgs,
  _o: RunOptions = {},
): Promise<CloneConvertResult> {
  return todo();
}
export async function runCloneSpeak(_a: CloneSpeakArgs, _o: RunOptions = {}): Promise<CloneSpeakResult> {
  return todo();
}
