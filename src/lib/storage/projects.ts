// Timeline projects (model in src/lib/projects/model.ts). DOM-free (page, workers, Node tests).
import type { Project } from '../projects/model';

export type ProjectRecord = Project;
