/**
 * `sluice/ml`: online learning on streams, the two models of Spark's streaming MLlib written from
 * their algorithms: `streamingKMeans` (mini-batch k-means with forgetfulness) and
 * `streamingLinearRegression` (SGD). Each model is state: trained once per batch, checkpointed
 * and exactly-once like any state, readable through `queryableState`, and scores records with the
 * model as of the previous batch. See docs/online-learning.md.
 */
export type { HalfLife } from './decay.js';
export type { DecayUnit } from './kmeans-model.js';
export type { LabeledPoint } from './linear-model.js';
export { streamingKMeans, type KMeansAssignment, type KMeansModel, type KMeansPrediction, type StreamingKMeans, type StreamingKMeansOptions } from './streaming-kmeans.js';
export { streamingLinearRegression, type LinearRegressionModel, type RegressionPrediction, type StreamingLinearRegression, type StreamingLinearRegressionOptions } from './streaming-linear-regression.js';
export type { PredictFeaturesOptions, PredictOptions } from './predict-options.js';
export { MODEL_KEY, type ModelStream } from './training-dstream.js';
export type { Vector } from './vector.js';
